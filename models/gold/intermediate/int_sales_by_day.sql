{{
    config(
        materialized='incremental',
        unique_key=['sales_date', 'channel_id', 'region'],
        incremental_strategy='merge',
        on_schema_change='fail',
    )
}}

{#-
  Daily sales per channel and region. Incremental runs recompute whole days: every
  (date, channel, region) of a day that received a new silver row since the last run, late
  events included (they count on their own sales_date).
-#}
with

{% if is_incremental() %}
touched as (

    -- the sales_dates that received new silver rows since the last run
    select distinct sales_date
    from {{ ref('sales_enriched') }}
    where {{ loaded_after_filter() }}

),
{% endif %}

sales as (

    select enriched.*
    from {{ ref('sales_enriched') }} as enriched
    {% if is_incremental() %}
    left semi join touched
        on enriched.sales_date = touched.sales_date
    {% endif %}

),

final as (

    select
        -- keys
        sales_date,
        channel_id,
        coalesce(region, 'unknown') as region,

        -- attributes
        coalesce(max(channel_name), 'unknown') as channel_name,

        -- measures
        count(*) as transactions,
        sum(quantity) as units,
        cast(sum(total_amount) as decimal(18, 2)) as total_amount,

        -- lineage
        max(loaded_at) as loaded_at

    from sales
    group by sales_date, channel_id, coalesce(region, 'unknown')

)

select * from final
