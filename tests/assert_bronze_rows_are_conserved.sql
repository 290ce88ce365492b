-- Conservation: bronze rows = sales_simple rows + duplicates dropped + sales_quarantine rows.
-- Duplicates are counted independently from the staging view (valid rows minus distinct valid
-- transaction ids), so an incremental run that lost or doubled a row fails here. Only bronze
-- rows up to silver_cutoff() count: the stream may append more while dbt builds.
-- In a build (data_tests_scope) only the newest silver load is checked: the bronze rows after
-- the older loads (`since`) against the silver rows of that load; a valid row whose
-- transaction_id an older load holds is a duplicate. Everything is checked in a full refresh,
-- a first build and `dbt test`. The counts are macros/consistency.sql conservation_counts,
-- which the audit's pipeline health reports per build.
{%- set load = silver_newest_load(ref('sales_simple'), ref('sales_quarantine')) %}
with

{{ conservation_counts(
    bronze_where='ingestion_time <= ' ~ silver_cutoff() ~ ' ' ~ load.after_older_loads,
    silver_where='ingestion_time <= ' ~ silver_cutoff() ~ ' ' ~ load.in_newest_load,
    older_where=('loaded_at < ' ~ load.loaded_at) if load.limited else none,
) }}

select * from counts
where bronze_rows != simple_rows + duplicate_rows + quarantine_rows
