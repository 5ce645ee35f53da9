/* The corridor map (dashboard and project page): Apache ECharts' map series over the
 * vendored boundaries, no tiles, no CDN. Each `.site-map` element names the json_script
 * element holding its data (projects.sites.map). No inline code: this file is all.
 *
 * After drawing, the element carries data-countries (countries shaded) and data-points
 * (points drawn), which the browser tests read. */
(function () {
  "use strict";

  var MAP_NAME = "registry-world";
  var worldRequests = {};

  function loadWorld(url, names) {
    if (!worldRequests[url]) {
      worldRequests[url] = fetch(url, { credentials: "same-origin" })
        .then(function (response) { return response.json(); })
        .then(function (world) {
          // The features are named in Chinese; relabel them with the registry's names in
          // the interface language, matched by ISO code.
          world.features.forEach(function (feature) {
            var iso = feature.properties.iso_a2;
            if (names[iso]) { feature.properties.name = names[iso]; }
          });
          echarts.registerMap(MAP_NAME, world);
          return world;
        });
    }
    return worldRequests[url];
  }

  function colours(config) {
    var byType = {};
    config.facility_types.forEach(function (type) { byType[type.value] = type; });
    return byType;
  }

  function inlineRows(prefix) {
    // The sites inline's rows, read from its inputs (the page's own form is the truth).
    var rows = [];
    document.querySelectorAll("[id^='id_" + prefix + "-'][id$='-latitude']").forEach(function (input) {
      var base = input.id.slice(0, -"-latitude".length);
      if (base.indexOf("__prefix__") !== -1) { return; }
      var deleted = document.getElementById(base + "-DELETE");
      if (deleted && deleted.checked) { return; }
      var lon = document.getElementById(base + "-longitude");
      var lat = parseFloat(input.value), lng = parseFloat(lon && lon.value);
      if (isNaN(lat) || isNaN(lng)) { return; }
      var type = document.getElementById(base + "-facility_type");
      var zh = document.getElementById(base + "-name_zh"), en = document.getElementById(base + "-name_en");
      rows.push({
        name: (en && en.value) || (zh && zh.value) || "",
        value: [lng, lat],
        facility_type: type ? type.value : "other",
      });
    });
    return rows;
  }

  function series(config, points) {
    var byType = colours(config);
    var groups = {};
    points.forEach(function (point) {
      (groups[point.facility_type] = groups[point.facility_type] || []).push(point);
    });
    return config.facility_types.filter(function (type) { return groups[type.value]; }).map(function (type) {
      return {
        type: "scatter",
        name: type.label,
        coordinateSystem: "geo",
        geoIndex: 0,
        symbolSize: 9,
        itemStyle: { color: byType[type.value].colour, borderColor: "#fff", borderWidth: 1 },
        data: groups[type.value],
        tooltip: { formatter: function (p) { return p.data.name + (p.data.project ? " · " + p.data.project : "") + "<br>" + type.label; } },
      };
    });
  }

  function draw(element, config, world) {
    var chart = echarts.getInstanceByDom(element) || echarts.init(element, null, { renderer: "svg" });
    var counts = config.countries || {};
    var data = [];
    var isoByName = {};
    world.features.forEach(function (feature) {
      var iso = feature.properties.iso_a2;
      isoByName[feature.properties.name] = iso;
      if (counts[iso]) { data.push({ name: feature.properties.name, value: counts[iso], iso: iso }); }
    });
    var points = config.editable ? inlineRows(element.dataset.inlinePrefix) : config.sites;
    var max = Math.max.apply(null, [1].concat(data.map(function (d) { return d.value; })));
    chart.setOption({
      tooltip: { trigger: "item" },
      legend: { bottom: 0, type: "scroll", data: series(config, points).map(function (s) { return s.name; }) },
      visualMap: {
        type: "continuous", min: 0, max: max, seriesIndex: 0, calculable: false,
        // On the project page the shading only marks the project's countries.
        show: !config.editable,
        left: 8, bottom: 30, itemHeight: 80, text: [String(max), "0"],
        inRange: { color: ["#dbe9f6", "#08519c"] },
      },
      geo: {
        map: MAP_NAME, roam: true, center: [95, 22], zoom: 2.4,
        itemStyle: { areaColor: "#f2f2f2", borderColor: "#9a9a9a", borderWidth: 0.5 },
        emphasis: { label: { show: false }, itemStyle: { areaColor: "#ffe08a" } },
      },
      series: [{
        type: "map", geoIndex: 0, name: config.labels.projects, data: data,
        tooltip: { formatter: function (p) { return p.name + ": " + (p.value || 0) + " " + config.labels.projects; } },
      }].concat(series(config, points)),
    }, true);
    chart.off("click");
    chart.on("click", function (params) {
      if (params.seriesType === "scatter" && params.data && params.data.url) {
        window.location.href = params.data.url;
      } else if ((params.seriesType === "map" || params.componentType === "geo") && config.country_link) {
        var iso = isoByName[params.name];
        if (iso && iso !== "-99") { window.location.href = config.country_link.replace("__ISO__", iso); }
      }
    });
    element.dataset.countries = String(data.length);
    element.dataset.points = String(points.length);
    element.dataset.ready = "1";
    return chart;
  }

  function placeOnClick(element, config, world, chart) {
    var prefix = element.dataset.inlinePrefix;
    var selected = null;
    document.addEventListener("focusin", function (event) {
      var id = event.target && event.target.id;
      if (id && id.indexOf("id_" + prefix + "-") === 0) { selected = id.replace(/-[a-z_]+$/, ""); }
    });
    chart.getZr().on("click", function (event) {
      var base = selected;
      if (!base) {
        var inputs = document.querySelectorAll("[id^='id_" + prefix + "-'][id$='-latitude']");
        inputs = Array.prototype.filter.call(inputs, function (i) { return i.id.indexOf("__prefix__") === -1; });
        if (!inputs.length) { return; }
        base = inputs[inputs.length - 1].id.slice(0, -"-latitude".length);
      }
      var point = chart.convertFromPixel({ geoIndex: 0 }, [event.offsetX, event.offsetY]);
      if (!point) { return; }
      document.getElementById(base + "-latitude").value = point[1].toFixed(6);
      document.getElementById(base + "-longitude").value = point[0].toFixed(6);
      draw(element, config, world);
    });
    var redraw = function () { draw(element, config, world); };
    document.addEventListener("change", redraw);
    document.addEventListener("formset:added", redraw);
    document.addEventListener("formset:removed", redraw);
  }

  function init(element) {
    var config = JSON.parse(document.getElementById(element.dataset.configId).textContent);
    loadWorld(config.world_url, config.names).then(function (world) {
      var chart = draw(element, config, world);
      if (config.editable) { placeOnClick(element, config, world, chart); }
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }

  function start() { document.querySelectorAll(".site-map[data-config-id]").forEach(init); }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
