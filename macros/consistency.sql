{#-
  The newest ingestion_time that both silver tables have certainly processed: bronze rows at
  or before it were visible to the runs that built sales_simple and sales_quarantine. It is
  sales_simple's newest: sales_quarantine is built after sales_simple (its ref), so it read at
  least as much bronze, and a single stream commits its batches in ingestion_time order.
  sales_quarantine's newest when there is no sale at all; 1970 when silver is empty (the
  build saw no bronze: nothing to compare yet). The consistency tests and the audit's pipeline
  health compare only the rows up to it, so they hold while the stream keeps appending to
  bronze during a build. It stays behind only while the newest batches hold no new sale
  (every row invalid or a duplicate).
-#}
{% macro silver_cutoff() -%}
    {%- set newest -%}
    (
        select coalesce(
            (select max(ingestion_time) from {{ ref('sales_simple') }}),
            (select max(ingestion_time) from {{ ref('sales_quarantine') }}),
            timestamp '1970-01-01 00:00:00'
        )
    )
    {%- endset -%}
    {#- read once per invocation and inlined as a literal (as the data tests' bounds are): a
        subquery here was evaluated again in every query that reads it, and hid the bound from
        Delta's file skipping. Every reader refs both silver tables, so it runs after they were
        built in this invocation, and nothing else writes them while dbt runs. -#}
    {%- if not execute or model.resource_type == 'unit_test' -%}
        {{- return(newest) -}}
    {%- endif -%}
    {{- return("timestamp '" ~ invocation_scalar("select cast(" ~ newest ~ " as string)") ~ "'") -}}
{%- endmacro %}

{#-
  The conservation counts over a slice of bronze, as CTEs ending in `counts` (bronze_rows,
  simple_rows, duplicate_rows, quarantine_rows): the conservation test and the audit's
  pipeline health use them, so a build's health row says exactly what the test checks.
    bronze_where   the bronze rows to count (a predicate on ingestion_time);
    silver_where   the sales_simple and sales_quarantine rows that came from them;
    older_where    the sales_simple rows that came from earlier bronze (a valid row whose
                   transaction_id one of them holds is a duplicate); none when there are none.
  Duplicates are counted from the staging view (valid rows minus the distinct valid
  transaction ids not seen before), independently of how sales_simple drops them.
-#}
{% macro conservation_counts(bronze_where, silver_where, older_where=none) -%}
staged as (

    select * from {{ ref('stg_bronze__sales_events') }}
    where {{ bronze_where }}

),

bronze as (

    select count(*) as bronze_rows
    from {{ source('bronze', 'sales_events') }}
    where {{ bronze_where }}

),

valid as (

    select transaction_id from staged
    where is_valid

),

seen_before as (

    -- the valid transaction ids here that older silver rows already hold
    {%- if older_where %}
    select distinct transaction_id
    from {{ ref('sales_simple') }}
    where {{ older_where }}
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
    where {{ silver_where }}

),

quarantine as (

    select count(*) as quarantine_rows
    from {{ ref('sales_quarantine') }}
    where {{ silver_where }}

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
{%- endmacro %}
