"""Region-pack builders: build the bundled demo regions from public sources (build time only).

``python -m xuewei.data.builders.wuxi`` rebuilds 巫溪县 (``data/regions/wuxi``);
``python -m xuewei.data.builders.jiangyang`` builds 泸州市江阳区 (``data/regions/jiangyang``). Both read
a ``../shared/geodata/<region>`` folder and a plan TOML, draw every synthetic part from a fixed seed and
write byte-identical files on every run. Nothing at runtime imports this package: the readers
(``xuewei.data.region``, ``xuewei.data.tables``) only load the packs these write.
"""
