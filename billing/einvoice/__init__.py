"""Legal e-invoices (Decree 123/2020/NĐ-CP, Circular 78/2021/TT-BTC): the tax authority's XML
(Decision 1450/QĐ-TCT), signed with the provider's certificate, sent through an e-invoice
provider plugin (``providers``) that obtains the tax authority's code."""
