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
        count(*) as transactions,
        sum(quantity) as units_sold,
        cast(sum(total_amount) as decimal(18, 2)) as revenue,

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
        aggregated.units_sold + coalesce(existing.units_sold, 0) as units_sold,
        cast(aggregated.revenue + coalesce(existing.revenue, 0) as decimal(18, 2)) as revenue,

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
