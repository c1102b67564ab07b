"""Pure domain: numbers, periods, figures and policy. Imports no SQL and no Telegram."""
