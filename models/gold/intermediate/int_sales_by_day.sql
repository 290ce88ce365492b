{{
    config(
        materialized='incremental',
        unique_key=['sales_date', 'channel_id', 'region'],
        incremental_strategy='merge',
        on_schema_change='fail',
    )
}}

{#-
  Daily sales per channel and region (late events count on their own sales_date). Incremental
  runs read only the silver rows loaded since the newest loaded_at here and add their
  aggregate to the (date, channel, region) rows they touch, when upstream_only_gained_rows()
  confirms silver only gained rows; otherwise they recompute every day from all of silver.
-#}
{%- set additive = upstream_only_gained_rows(
    ref('sales_enriched'), 'recomputing from all of it', taken='sum(transactions)'
) %}

with

sales as (

    select * from {{ ref('sales_enriched') }}
    {% if additive %}
    where {{ loaded_after_filter() }}
    {% endif %}

),

aggregated as (

    select
        -- keys
        sales_date,
        channel_id,
        coalesce(region, 'unknown') as region,

        -- attributes (null for a channel missing from channels.csv; sales_by_day says unknown)
        max(channel_name) as channel_name,

        -- measures
        -- exact sums, in types no sum of sales can overflow (the mart casts to its own types)
        count(*) as transactions,
        try_sum(cast(quantity as decimal(38, 0))) as units,
        try_sum(cast(total_amount as decimal(38, 2))) as total_amount,

        -- lineage
        max(loaded_at) as loaded_at

    from sales
    group by sales_date, channel_id, coalesce(region, 'unknown')

),

{% if additive %}
final as (

    -- greatest skips nulls, like max() over all the group's rows
    select
        -- keys
        aggregated.sales_date,
        aggregated.channel_id,
        aggregated.region,

        -- attributes
        greatest(aggregated.channel_name, existing.channel_name) as channel_name,

        -- measures
        aggregated.transactions + coalesce(existing.transactions, 0) as transactions,
        try_add(aggregated.units, coalesce(existing.units, 0)) as units,
        try_add(aggregated.total_amount, coalesce(existing.total_amount, 0)) as total_amount,

        -- lineage
        aggregated.loaded_at

    from aggregated
    left join {{ this }} as existing
        on aggregated.sales_date = existing.sales_date
            and aggregated.channel_id = existing.channel_id
            and aggregated.region = existing.region

)
{% else %}
final as (

    select * from aggregated

)
{% endif %}

select * from final
