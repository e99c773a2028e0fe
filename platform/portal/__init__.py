"""The citizen-facing portal of each agency, served on the agency's own hostname."""
