{{
    config(
        materialized='incremental',
        unique_key='store_id',
        incremental_strategy='merge',
        on_schema_change='fail',
    )
}}

{#-
  Sales per store: the store_ids seen in sales, for dim_store (whose inferred members need
  them) without reading all of silver on every run. Incremental runs read only the silver
  rows loaded since the newest loaded_at here and add their counts to the stores' rows, when
  upstream_only_gained_rows() confirms silver only gained rows; otherwise they recompute
  every store from all of silver.
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
        store_id,

        -- measures
        count(*) as transactions,

        -- lineage
        max(loaded_at) as loaded_at

    from sales
    group by store_id

),

{% if additive %}
final as (

    select
        -- keys
        aggregated.store_id,

        -- measures
        aggregated.transactions + coalesce(existing.transactions, 0) as transactions,

        -- lineage
        aggregated.loaded_at

    from aggregated
    left join {{ this }} as existing
        on aggregated.store_id = existing.store_id

)
{% else %}
final as (

    select * from aggregated

)
{% endif %}

select * from final
