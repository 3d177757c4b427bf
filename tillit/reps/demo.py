"""After the demo data: count the reps' KPIs for today and the 24 months behind the trend."""


def load_reps_demo(*, members: int, seed: int = 1) -> None:
    from tillit.reps.kpis import recount

    recount()
