{#-
  Generic data tests of our own (the dbt package hub is unreachable from CI, so no
  dbt_utils): each returns the failing rows.
-#}

{#- No two rows share the same values in `columns`. -#}
{% test unique_combination(model, columns) %}
    select {{ columns | join(', ') }}, count(*) as copies
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
{% endtest %}

{#- Every non-null value lies in [min_value, max_value] (either bound optional);
    `exclusive_max` makes the upper bound exclusive. -#}
{% test value_between(model, column_name, min_value=none, max_value=none, exclusive_max=false) %}
    select {{ column_name }}
    from {{ model }}
    where {{ column_name }} is not null
      and (
        false
        {% if min_value is not none %} or {{ column_name }} < {{ min_value }}{% endif %}
        {% if max_value is not none %}
            or {{ column_name }} {{ '>=' if exclusive_max else '>' }} {{ max_value }}
        {% endif %}
      )
{% endtest %}

{#- `expression` holds on every row (rows where it is false or null fail). -#}
{% test expression_is_true(model, expression, column_name=none, where_clause=none) %}
    select *
    from {{ model }}
    where not coalesce(({{ expression }}), false)
    {% if where_clause %} and ({{ where_clause }}){% endif %}
{% endtest %}

{#- Two relations have the same number of rows. When the test reads only the newest load of
    `model` (data_tests_scope), it reads only the newest load of `compare_model` too (which
    then needs a loaded_at column). -#}
{% test equal_row_count(model, compare_model) %}
    {%- set compare = compare_model -%}
    {%- if test_scope() == 'newest_load' -%}
        {%- set newest = newest_load_predicate(compare_model) -%}
        {%- if newest -%}
            {%- set compare = '(select * from ' ~ compare_model ~ ' where ' ~ newest ~ ') compared' -%}
        {%- endif -%}
    {%- endif %}
    with a as (select count(*) as n from {{ model }}),
         b as (select count(*) as n from {{ compare }})
    select a.n as model_rows, b.n as compare_rows
    from a cross join b
    where a.n != b.n
{% endtest %}

{#- None of `columns` holds a null: one scan for all of them (one query instead of one per
    column); a failing row names the column and how many rows are null in it. -#}
{% test not_null_columns(model, columns) %}
    with null_counts as (
        select
        {%- for column in columns %}
            sum(case when {{ column }} is null then 1 else 0 end) as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
        from {{ model }}
    )
    {% for column in columns %}
    select '{{ column }}' as column_name, {{ column }} as null_rows
    from null_counts
    where {{ column }} > 0
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
{% endtest %}
