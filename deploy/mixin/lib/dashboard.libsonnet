// Puts a selector into a Grafana dashboard's `job` variable.
{
  // withJobSelector(dashboard, from, to): dashboard with the matchers
  // {from} of its `job` variable's query replaced by {to}. The metric the
  // variable reads stays the generator's choice (deploy/grafana, JobQuery).
  // A variable's query is a string, or an object holding the string in
  // `query` (Grafana's newer Prometheus variable editor); its `definition`,
  // when present, shows the same query in the UI and is patched too. A
  // dashboard without a job variable, or whose job query does not select
  // {from}, is an error: silently leaving it would show the wrong job.
  withJobSelector(dashboard, from, to)::
    local replace(s) =
      assert std.isString(s) && std.length(std.findSubstr('{%s}' % from, s)) > 0
             : "the dashboard's job variable query %s does not select {%s}" % [std.toString(s), from];
      std.strReplace(s, '{%s}' % from, '{%s}' % to);
    local patchQuery(q) = if std.isObject(q) then q { query: replace(super.query) } else replace(q);
    local patchVariable(variable) =
      if variable.name != 'job' then variable
      else variable
           { query: patchQuery(variable.query) }
           + (if std.objectHas(variable, 'definition') then { definition: replace(variable.definition) } else {});
    local variables = dashboard.templating.list;
    assert std.length([v for v in variables if v.name == 'job']) == 1
           : 'the dashboard has no templating variable named job';
    dashboard {
      templating+: { list: std.map(patchVariable, variables) },
    },
}
