# Makes conf/ importable as `rsx.conf`, so Hydra finds it with `pkg://rsx.conf` installed or not.
