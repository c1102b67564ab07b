"""``python -m bot.cli.main``."""

from bot.cli.main.main import main

main()
