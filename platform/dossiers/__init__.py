"""Dossiers (hồ sơ): intake, codes and receipts, documents, drafts, tracking (agency schema)."""
