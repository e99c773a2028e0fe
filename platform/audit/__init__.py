"""The agency's own audit trail (tenant schema): who changed what, when."""
