-- Conservation: bronze rows = sales_simple rows + duplicates dropped + sales_quarantine rows.
-- Duplicates are counted independently from the staging view (valid rows minus distinct valid
-- transaction ids), so an incremental run that lost or doubled a row fails here. Only bronze
-- rows up to silver_cutoff() count: the stream may append more while dbt builds.
with

staged as (

    select * from {{ ref('stg_bronze__sales_events') }}
    where ingestion_time <= {{ silver_cutoff() }}

),

bronze as (

    select count(*) as bronze_rows
    from {{ source('bronze', 'sales_events') }}
    where ingestion_time <= {{ silver_cutoff() }}

),

duplicates as (

    select count(*) - count(distinct transaction_id) as duplicate_rows
    from staged
    where is_valid

),

simple as (

    select count(*) as simple_rows
    from {{ ref('sales_simple') }}
    where ingestion_time <= {{ silver_cutoff() }}

),

quarantine as (

    select count(*) as quarantine_rows
    from {{ ref('sales_quarantine') }}
    where ingestion_time <= {{ silver_cutoff() }}

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
