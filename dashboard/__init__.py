"""The KPI dashboard (`make dashboard`, `python -m dashboard`): one self-contained HTML page from
the gold tables. queries.py reads them (its TABLES_READ is the dbt exposure's depends_on),
charts.py draws SVG charts, page.py lays the page out."""
