-- Conservation: bronze rows = sales_simple rows + duplicates dropped + sales_quarantine rows.
-- Duplicates are counted independently from the staging view (valid rows minus distinct valid
-- transaction ids), so an incremental run that lost or doubled a row fails here. Only bronze
-- rows up to silver_cutoff() count: the stream may append more while dbt builds.
-- In a build (data_tests_scope) only the newest silver load is checked: the bronze rows after
-- the older loads (`since`) against the silver rows of that load; a valid row whose
-- transaction_id an older load holds is a duplicate. Everything is checked in a full refresh,
-- a first build and `dbt test`.
{%- set load = silver_newest_load(ref('sales_simple'), ref('sales_quarantine')) %}
with

staged as (

    select * from {{ ref('stg_bronze__sales_events') }}
    where ingestion_time <= {{ silver_cutoff() }} {{ load.after_older_loads }}

),

bronze as (

    select count(*) as bronze_rows
    from {{ source('bronze', 'sales_events') }}
    where ingestion_time <= {{ silver_cutoff() }} {{ load.after_older_loads }}

),

valid as (

    select transaction_id from staged
    where is_valid

),

seen_before as (

    -- the valid transaction ids here that an older load already holds
    {%- if load.limited %}
    select distinct transaction_id
    from {{ ref('sales_simple') }}
    where loaded_at < {{ load.loaded_at }}
        and transaction_id in (select valid.transaction_id from valid)
    {%- else %}
    select cast(null as string) as transaction_id
    where false
    {%- endif %}

),

duplicates as (

    select
        count(*) - count(distinct case when seen_before.transaction_id is null then valid.transaction_id end)
            as duplicate_rows
    from valid
    left join seen_before
        on valid.transaction_id = seen_before.transaction_id

),

simple as (

    select count(*) as simple_rows
    from {{ ref('sales_simple') }}
    where ingestion_time <= {{ silver_cutoff() }} {{ load.in_newest_load }}

),

quarantine as (

    select count(*) as quarantine_rows
    from {{ ref('sales_quarantine') }}
    where ingestion_time <= {{ silver_cutoff() }} {{ load.in_newest_load }}

),

counts as (

    select
        bronze.bronze_rows,
        simple.simple_rows,
        duplicates.duplicate_rows,
        quarantine.quarantine_rows
    from bronze
    cross join simple
    cross join duplicates
    cross join quarantine

)

select * from counts
where bronze_rows != simple_rows + duplicate_rows + quarantine_rows
