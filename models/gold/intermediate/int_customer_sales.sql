{{
    config(
        materialized='incremental',
        unique_key='customer_id',
        incremental_strategy='merge',
        on_schema_change='fail',
    )
}}

{#-
  Purchases per identified customer. Incremental runs read only the silver rows loaded since
  the newest loaded_at here and add their aggregate to the customers' rows (counts and sums
  add, first/last purchase combine), when upstream_only_gained_rows() confirms silver only
  gained rows; otherwise they recompute every customer from all of silver.
-#}
{%- set additive = upstream_only_gained_rows(
    ref('sales_enriched'), 'recomputing from all of it', taken='sum(purchases)', where='customer_id is not null'
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
        customer_id,

        -- measures
        -- an exact sum, in a type no sum of sales can overflow (the mart casts to decimal(18,2))
        count(*) as purchases,
        try_sum(cast(total_amount as decimal(38, 2))) as total_spent,

        -- timestamps
        min(event_at) as first_purchase_at,
        max(event_at) as last_purchase_at,

        -- lineage
        max(loaded_at) as loaded_at

    from sales
    where customer_id is not null
    group by customer_id

),

{% if additive %}
final as (

    -- least/greatest skip nulls: a customer not here yet takes the new aggregate as is
    select
        -- keys
        aggregated.customer_id,

        -- measures
        aggregated.purchases + coalesce(existing.purchases, 0) as purchases,
        try_add(aggregated.total_spent, coalesce(existing.total_spent, 0)) as total_spent,

        -- timestamps
        least(aggregated.first_purchase_at, existing.first_purchase_at) as first_purchase_at,
        greatest(aggregated.last_purchase_at, existing.last_purchase_at) as last_purchase_at,

        -- lineage
        aggregated.loaded_at

    from aggregated
    left join {{ this }} as existing
        on aggregated.customer_id = existing.customer_id

)
{% else %}
final as (

    select * from aggregated

)
{% endif %}

select * from final
