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

sales as (

    select * from {{ ref('sales_enriched') }}
    where customer_id is not null
    {% if is_incremental() %}
        and customer_id in (
            select customer_id
            from {{ ref('sales_enriched') }}
            where {{ loaded_after_filter() }}
        )
    {% endif %}

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
