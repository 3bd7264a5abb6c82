"""The pieces of bench/run.py, one concept per module:

- `load_generators`: the servers and load-generating clients, run as helper
  processes (`run.py _helper KIND ...`) on the host or inside a namespace;
- `procfs`: CPU time, memory and process trees read from /proc;
- `processes`: running, starting and stopping the commands the bench uses;
- `translators`: each translator (rtether, pasta, slirp4netns, or direct
  loopback) giving a namespace that reaches the host's loopback;
- `wine`: the Wine session (prefix, wineserver) of the rtether-wine column;
- `results`: the typed results of every measurement;
- `measurement`: the measurements of one translator, in order;
- `report`: the table (text and Markdown), its notes, and the JSON.
"""
