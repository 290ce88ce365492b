{{
    config(
        materialized='incremental',
        unique_key='customer_id',
        incremental_strategy='merge',
        on_schema_change='fail',
    )
}}

{#- Purchases per identified customer; incremental runs recompute the customers with new sales. -#}
with

{% if is_incremental() %}
touched as (

    -- the customer_ids that received new silver rows since the last run
    select distinct customer_id
    from {{ ref('sales_enriched') }}
    where {{ loaded_after_filter() }}

),
{% endif %}

sales as (

    select enriched.*
    from {{ ref('sales_enriched') }} as enriched
    {% if is_incremental() %}
    left semi join touched
        on enriched.customer_id = touched.customer_id
    {% endif %}
    where enriched.customer_id is not null

),

final as (

    select
        -- keys
        customer_id,

        -- measures
        count(*) as purchases,
        cast(sum(total_amount) as decimal(18, 2)) as total_spent,

        -- timestamps
        min(event_at) as first_purchase_at,
        max(event_at) as last_purchase_at,

        -- lineage
        max(loaded_at) as loaded_at

    from sales
    group by customer_id

)

select * from final
