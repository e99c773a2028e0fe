"""Operations: health checks, fault injection for crash tests, local set-up commands."""
