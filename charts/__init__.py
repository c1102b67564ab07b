"""Charts for monev-bot: PNG bytes from plain data (``charts.render``), short Indonesian
number texts for them (``charts.format``).

Nothing is imported here so that ``import charts.format`` stays free of matplotlib.
"""
