{{
    config(
        materialized='incremental',
        unique_key='product_id',
        incremental_strategy='merge',
        on_schema_change='fail',
    )
}}

{#-
  Sales per product. Incremental runs read only the silver rows loaded since the newest
  loaded_at here and add their aggregate to the products' rows, when
  upstream_only_gained_rows() confirms silver only gained rows; otherwise they recompute
  every product from all of silver.
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
        product_id,

        -- measures
        -- exact sums, in types no sum of sales can overflow (the mart casts to its own types)
        count(*) as transactions,
        try_sum(cast(quantity as decimal(38, 0))) as units_sold,
        try_sum(cast(total_amount as decimal(38, 2))) as revenue,

        -- lineage
        max(loaded_at) as loaded_at

    from sales
    group by product_id

),

{% if additive %}
final as (

    select
        -- keys
        aggregated.product_id,

        -- measures
        aggregated.transactions + coalesce(existing.transactions, 0) as transactions,
        try_add(aggregated.units_sold, coalesce(existing.units_sold, 0)) as units_sold,
        try_add(aggregated.revenue, coalesce(existing.revenue, 0)) as revenue,

        -- lineage
        aggregated.loaded_at

    from aggregated
    left join {{ this }} as existing
        on aggregated.product_id = existing.product_id

)
{% else %}
final as (

    select * from aggregated

)
{% endif %}

select * from final
