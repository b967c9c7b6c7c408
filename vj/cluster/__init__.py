"""`vj render --cluster`: renders and replays in parts on a Ray cluster (`driver`), the cluster joined
or started (`connect`), and what its workers run (`worker`)."""

from vj.cluster.driver import render_on_cluster, replay_on_cluster

__all__ = ["render_on_cluster", "replay_on_cluster"]
