"""The operations console inside the Django admin: the fleet overview (the admin index), a page
per device (latest values, charts, what runs on it, its timeline) and "What changed?" across the
fleet. Server-rendered first; a small static script keeps the pages live from /ws/stream.

apps       the admin's AppConfig, which makes ConsoleAdminSite the default site
site       the admin site: the index as overview, the console's URLs
selectors  what the pages read (one query per section)
series     the charts' data, read through the history query layer
charts     the charts as accessible inline SVG (pure)
changes    the "What changed?" filters
views      the pages
"""
