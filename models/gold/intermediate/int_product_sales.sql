{{
    config(
        materialized='incremental',
        unique_key='product_id',
        incremental_strategy='merge',
        on_schema_change='fail',
    )
}}

{#- Sales per product; incremental runs recompute the products with new sales. -#}
with

{% if is_incremental() %}
touched as (

    -- the product_ids that received new silver rows since the last run
    select distinct product_id
    from {{ ref('sales_enriched') }}
    where {{ loaded_after_filter() }}

),
{% endif %}

sales as (

    select enriched.*
    from {{ ref('sales_enriched') }} as enriched
    {% if is_incremental() %}
    left semi join touched
        on enriched.product_id = touched.product_id
    {% endif %}

),

final as (

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

)

select * from final
