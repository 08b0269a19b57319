"""History at any scale: rollup tiers of the time series, their watermarks and the query layer.

`families` declares what is rolled up, `rollup` computes the tiers incrementally in SQL, `query`
answers "this range in about N points" from the cheapest tier, `stats` measures what is stored.
"""
