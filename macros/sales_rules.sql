{#-
  The contract's rules as small macros, so staging SQL reads like the contract and unit tests
  exercise exactly what the models run. Plain Spark SQL: the same on dbt-spark and
  dbt-databricks, and never an error on bad values with ANSI mode on (as on a Databricks SQL
  warehouse) or off: arithmetic that can overflow goes through try_* functions, which give null.
-#}

{#- ISO-8601 with an offset (Z or ±hh:mm / ±hhmm), 'T' or space between date and time. -#}
{% macro parse_event_timestamp(column) -%}
    case
        when {{ column }} rlike '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,9})?)?(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)$'
            then try_cast({{ column }} as timestamp)
    end
{%- endmacro %}

{#- The calendar date of an instant in UTC, whatever the session time zone. -#}
{% macro utc_date(timestamp_column) -%}
    date_from_unix_date(cast(floor(unix_micros({{ timestamp_column }}) / 86400000000) as int))
{%- endmacro %}

{#- round_half_up(quantity × unit_price × (1 − discount_pct), 2) as decimal(18,2); null when it
    does not fit (silver quarantines such a row as amount_out_of_range). Under ANSI mode a
    decimal product that overflows raises even inside try_cast, hence try_multiply. -#}
{% macro sales_amount(quantity, unit_price, discount_pct) -%}
    try_cast(
        round(
            try_multiply(
                try_multiply(cast({{ quantity }} as decimal(20, 0)), {{ unit_price }}),
                1 - coalesce({{ discount_pct }}, 0)
            ),
            2
        ) as decimal(18, 2)
    )
{%- endmacro %}

{#- A gold money value as the contract's decimal(18,2); null when it does not fit (a sum beyond
    9,999,999,999,999,999.99 USD). -#}
{% macro money(amount) -%}
    try_cast({{ amount }} as decimal(18, 2))
{%- endmacro %}

{#- A gold count of units as a bigint; null when it does not fit (beyond 2^63 - 1). -#}
{% macro units(quantity) -%}
    try_cast({{ quantity }} as bigint)
{%- endmacro %}

{#- round_half_up(total / count, 2) as decimal(18,2), for a decimal(18,2) total (then it cannot
    overflow); null when the total is null or the count is 0. -#}
{% macro average_amount(total, count) -%}
    cast(round({{ total }} / nullif({{ count }}, 0), 2) as decimal(18, 2))
{%- endmacro %}

{% macro ticket_category(amount) -%}
    case
        when {{ amount }} < 20 then 'small'
        when {{ amount }} < 100 then 'medium'
        when {{ amount }} < 500 then 'large'
        else 'premium'
    end
{%- endmacro %}

{#- Empty = null, '' or only spaces. -#}
{% macro is_blank(column) -%}
    coalesce(trim({{ column }}), '') = ''
{%- endmacro %}

{#-
  transaction_hash: SHA-256 (hex) of the business fields in this canonical form, joined by '|':
    transaction_id | event time as epoch microseconds (UTC instant) | store_id | channel_id |
    product_id | customer_id or '' | quantity | unit_price with 6 decimals |
    discount_pct with 6 decimals (0.000000 when absent) | payment_method or '' | currency
  Epoch microseconds and fixed-scale decimals make it independent of session time zone and
  of how the JSON spelled the numbers, so it is identical on every target.
-#}
{% macro transaction_hash(relation_alias='') -%}
    {%- set p = relation_alias ~ '.' if relation_alias else '' -%}
    sha2(
        concat_ws(
            '|',
            {{ p }}transaction_id,
            cast(unix_micros({{ p }}event_at) as string),
            {{ p }}store_id,
            {{ p }}channel_id,
            {{ p }}product_id,
            coalesce({{ p }}customer_id, ''),
            cast({{ p }}quantity as string),
            cast(cast({{ p }}unit_price as decimal(18, 6)) as string),
            cast(cast(coalesce({{ p }}discount_pct, 0) as decimal(18, 6)) as string),
            coalesce({{ p }}payment_method, ''),
            {{ p }}currency
        ),
        256
    )
{%- endmacro %}
