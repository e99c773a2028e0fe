"""Reading the trails: the agency's (its audit entries and its dossiers' history) and the
provider's (agencies, applications, billing, accounts), filtered, paginated and exported.

Above the apps whose events it reads; ``audit`` below it only records."""
