"""Operations: health checks and backup/restore."""
