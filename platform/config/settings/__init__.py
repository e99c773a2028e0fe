"""Settings per environment: base (shared), local, test, bench, production."""
