"""The floor: the same data as each API call, fetched by one hand-written SQL statement.

Each statement returns the whole response body as one JSON text built by PostgreSQL
(`json_agg`), so the floor includes building the rows and their relations and sending
them to the client, but no Python work beyond reading one string. The API is measured
against these in the same run (`bench/api.py`).

The list statements order like the API's default (newest first: created_at, id
descending) and take 50 rows; the filters mean what the API's filters mean: `status`,
`country_group` (a country of the project is a member of the group), `sector` (the
sector or, for a top-level sector, one of its sub-sectors), `search` (substring of code,
titles, summaries or a participating partner's name, case-insensitive).
"""

# One project as the list shows it: fields, lead unit, countries, sectors, participations.
_PROJECT_JSON = """
    json_build_object(
      'code', p.code, 'title_zh', p.title_zh, 'title_en', p.title_en, 'kind', p.kind,
      'status', p.status, 'planned_start', p.planned_start, 'planned_end', p.planned_end,
      'estimated_value', p.estimated_value, 'currency', p.currency,
      'risk_level', p.risk_level, 'created_at', p.created_at, 'updated_at', p.updated_at,
      'lead_unit', json_build_object('id', lu.id, 'name_zh', lu.name_zh,
                                     'name_en', lu.name_en, 'country', lu.country_id),
      'countries', (
        SELECT json_agg(json_build_object('iso2', c.iso2, 'name_zh', c.name_zh,
                                          'name_en', c.name_en, 'share', pc.share)
                        ORDER BY pc.share DESC NULLS LAST, pc.country_id)
        FROM projects_projectcountry pc JOIN registry_country c ON c.iso2 = pc.country_id
        WHERE pc.project_id = p.id),
      'sectors', (
        SELECT json_agg(json_build_object('code', s.code, 'name_zh', s.name_zh,
                                          'name_en', s.name_en, 'share', ps.share)
                        ORDER BY ps.share DESC NULLS LAST, ps.sector_id)
        FROM projects_projectsector ps JOIN registry_sector s ON s.id = ps.sector_id
        WHERE ps.project_id = p.id),
      'participations', (
        SELECT json_agg(json_build_object('partner', pt.id, 'name_zh', pt.name_zh,
                                          'name_en', pt.name_en, 'country', pt.country_id,
                                          'role', pa.role)
                        ORDER BY pa.role, pa.partner_id)
        FROM projects_participation pa JOIN partners_partner pt ON pt.id = pa.partner_id
        WHERE pa.project_id = p.id)
    )"""

_PAGE = f"""
SELECT json_build_object('count', (SELECT count(*) FROM projects_project p {{where}}),
                         'results', coalesce(json_agg(page.item), '[]'))::text
FROM (
  SELECT {_PROJECT_JSON} AS item
  FROM projects_project p JOIN partners_partner lu ON lu.id = p.lead_unit_id
  {{where}}
  ORDER BY p.created_at DESC, p.id DESC
  LIMIT 50
) page
"""

_FILTERED_WHERE = """
WHERE p.status = %(status)s
  AND EXISTS (
    SELECT 1 FROM projects_projectcountry pc
    JOIN registry_countrygroup_members m ON m.country_id = pc.country_id
    JOIN registry_countrygroup g ON g.id = m.countrygroup_id
    WHERE pc.project_id = p.id AND g.code = %(country_group)s)
  AND EXISTS (
    SELECT 1 FROM projects_projectsector ps
    JOIN registry_sector s ON s.id = ps.sector_id
    LEFT JOIN registry_sector parent ON parent.id = s.parent_id
    WHERE ps.project_id = p.id AND (s.code = %(sector)s OR parent.code = %(sector)s))
"""

_SEARCH_WHERE = """
WHERE upper(p.code) LIKE upper(%(pattern)s) OR upper(p.title_zh) LIKE upper(%(pattern)s)
   OR upper(p.title_en) LIKE upper(%(pattern)s) OR upper(p.summary_zh) LIKE upper(%(pattern)s)
   OR upper(p.summary_en) LIKE upper(%(pattern)s)
   OR EXISTS (
     SELECT 1 FROM projects_participation pa JOIN partners_partner pt ON pt.id = pa.partner_id
     WHERE pa.project_id = p.id
       AND (upper(pt.name_zh) LIKE upper(%(pattern)s)
            OR upper(pt.name_en) LIKE upper(%(pattern)s)))
"""

_DETAIL = f"""
SELECT {_PROJECT_JSON}::text
FROM projects_project p JOIN partners_partner lu ON lu.id = p.lead_unit_id
WHERE p.code = %(code)s
"""

# The figures of `/api/v1/stats/summary/` (`projects.reporting.stats.summary`) in one statement:
# projects and value per currency overall, by status, by kind and by lead unit; by
# top-level sector, country and country group the projects touching each (a project
# counted once per key), their weight (project-equivalents) and the value attributed by
# the link weights (share / sum of the project's shares when every link has one and they
# sum to more than zero, else 1/n). The same definitions as the app, computed the way a
# database person would: each table read once, weights by window functions, a project
# counted once per key by grouping per (project, key) first (cheaper than COUNT DISTINCT).
_LINK_WEIGHT = """
    CASE WHEN count({t}.share) OVER w = count(*) OVER w AND sum({t}.share) OVER w > 0
         THEN {t}.share::float8 / (sum({t}.share) OVER w)::float8
         ELSE 1.0 / count(*) OVER w END"""

_STATS = f"""
WITH p AS MATERIALIZED (
  SELECT id, status, kind, lead_unit_id, currency, estimated_value FROM projects_project
), cl AS MATERIALIZED (
  SELECT pc.project_id, pc.country_id, {_LINK_WEIGHT.format(t="pc")} AS weight
  FROM projects_projectcountry pc WINDOW w AS (PARTITION BY pc.project_id)
), sl AS MATERIALIZED (
  SELECT ps.project_id, coalesce(s.parent_id, s.id) AS sector_id,
         {_LINK_WEIGHT.format(t="ps")} AS weight
  FROM projects_projectsector ps JOIN registry_sector s ON s.id = ps.sector_id
  WINDOW w AS (PARTITION BY ps.project_id)
), gl AS MATERIALIZED (
  SELECT cl.project_id, m.countrygroup_id AS group_id, cl.weight
  FROM cl JOIN registry_countrygroup_members m ON m.country_id = cl.country_id
)
SELECT json_build_object(
  'count', (SELECT count(*) FROM p),
  'value', (SELECT json_agg(t) FROM (
      SELECT currency, sum(estimated_value) AS total FROM p
      WHERE estimated_value IS NOT NULL GROUP BY currency) t),
  'by_status', (SELECT json_agg(t) FROM (
      SELECT status, currency, count(*) AS projects, sum(estimated_value) AS total
      FROM p GROUP BY status, currency) t),
  'by_kind', (SELECT json_agg(t) FROM (
      SELECT kind, currency, count(*) AS projects, sum(estimated_value) AS total
      FROM p GROUP BY kind, currency) t),
  'by_lead_unit', (SELECT json_agg(t) FROM (
      SELECT p.lead_unit_id, lu.name_zh, lu.name_en, p.currency, count(*) AS projects,
             sum(p.estimated_value) AS total
      FROM p JOIN partners_partner lu ON lu.id = p.lead_unit_id
      GROUP BY p.lead_unit_id, lu.name_zh, lu.name_en, p.currency) t),
  'by_sector', (SELECT json_agg(t) FROM (
      SELECT s.code, s.name_zh, s.name_en, a.currency, count(*) AS projects,
             sum(a.weight) AS weight, sum(a.value::float8 * a.weight) AS total
      FROM (SELECT sl.project_id, sl.sector_id AS key_id, p.currency, p.estimated_value AS value,
                   sum(sl.weight) AS weight
            FROM sl JOIN p ON p.id = sl.project_id GROUP BY 1, 2, 3, 4) a
      JOIN registry_sector s ON s.id = a.key_id
      GROUP BY s.code, s.name_zh, s.name_en, a.currency) t),
  'by_country', (SELECT json_agg(t) FROM (
      SELECT c.iso2, c.name_zh, c.name_en, p.currency, count(*) AS projects,
             sum(cl.weight) AS weight, sum(p.estimated_value::float8 * cl.weight) AS total
      FROM cl JOIN p ON p.id = cl.project_id JOIN registry_country c ON c.iso2 = cl.country_id
      GROUP BY c.iso2, c.name_zh, c.name_en, p.currency) t),
  'by_country_group', (SELECT json_agg(t) FROM (
      SELECT g.code, g.name_zh, g.name_en, a.currency, count(*) AS projects,
             sum(a.weight) AS weight, sum(a.value::float8 * a.weight) AS total
      FROM (SELECT gl.project_id, gl.group_id AS key_id, p.currency, p.estimated_value AS value,
                   sum(gl.weight) AS weight
            FROM gl JOIN p ON p.id = gl.project_id GROUP BY 1, 2, 3, 4) a
      JOIN registry_countrygroup g ON g.id = a.key_id
      GROUP BY g.code, g.name_zh, g.name_en, a.currency) t)
)::text
"""

_STATS_BY_STATUS = "SELECT status, count(*) FROM projects_project GROUP BY status"

# The export's rows: one line per project with its countries and sectors flattened.
EXPORT_COPY = """
COPY (
  SELECT p.code, p.title_zh, p.title_en, p.status, p.kind, lu.name_zh AS lead_unit,
         (SELECT string_agg(pc.country_id || ':' || coalesce(pc.share::text, ''), ';')
          FROM projects_projectcountry pc WHERE pc.project_id = p.id) AS countries,
         (SELECT string_agg(s.code || ':' || coalesce(ps.share::text, ''), ';')
          FROM projects_projectsector ps JOIN registry_sector s ON s.id = ps.sector_id
          WHERE ps.project_id = p.id) AS sectors,
         p.estimated_value, p.currency, p.planned_start, p.planned_end, p.created_at
  FROM projects_project p JOIN partners_partner lu ON lu.id = p.lead_unit_id
  ORDER BY p.created_at DESC, p.id DESC
) TO STDOUT WITH (FORMAT csv, HEADER)
"""


def floors(*, status: str, country_group: str, sector: str, search: str, code: str) -> dict:
    """{name: (sql, params)} for each measured call."""
    return {
        "list": (_PAGE.format(where=""), {}),
        "list_filtered": (
            _PAGE.format(where=_FILTERED_WHERE),
            {"status": status, "country_group": country_group, "sector": sector},
        ),
        "list_search": (_PAGE.format(where=_SEARCH_WHERE), {"pattern": f"%{search}%"}),
        "detail": (_DETAIL, {"code": code}),
        "stats": (_STATS, {}),
        "stats_by_status": (_STATS_BY_STATUS, {}),
    }
