"""The Telegram Mini App beside the chat: /lapor as one form, and a dashboard.

``auth`` checks Telegram's initData, ``routes`` is the web app (pages, static files, JSON
API), ``server`` serves it from the bot's process when no webhook server does. What the
pages say is in ``bot/views/webapp.py``; what they compute is in the services the chat uses.
"""
