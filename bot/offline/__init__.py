"""The offline kit: Telegram without Telegram, for the console, tests and benchmarks.

- ``api``: the Bot API itself (state and methods), as a PTB request object;
- ``http``: the same Bot API served on a loopback socket (``monev run`` as a process,
  benchmarks through PTB's real HTTP stack);
- ``updates``: the updates a user's messages, documents and button presses become.

``monev run`` never imports this package (tests/test_offline.py checks it).
"""
