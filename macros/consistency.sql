{#-
  The newest ingestion_time that both silver tables have certainly processed: bronze rows at
  or before it were visible to the runs that built sales_simple and sales_quarantine. The
  consistency tests compare only those rows, so they hold while the stream keeps appending
  to bronze during a build (a single stream stamps batches with increasing ingestion_time).
  When both silver tables are empty the build saw no bronze at all: nothing to compare yet.
-#}
{% macro silver_cutoff() -%}
    (
        select coalesce(least(simple_max, quarantine_max), simple_max, quarantine_max, timestamp '1970-01-01 00:00:00')
        from (
            select
                (select max(ingestion_time) from {{ ref('sales_simple') }}) as simple_max,
                (select max(ingestion_time) from {{ ref('sales_quarantine') }}) as quarantine_max
        ) as maxima
    )
{%- endmacro %}
