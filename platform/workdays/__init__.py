"""Working days: Vietnam's public holidays (incl. lunar Tết), weekends, each agency's own days."""
