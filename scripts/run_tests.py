"""Run the whole suite on SQLite, then on PostgreSQL when it answers (required in CI)."""

import os
import subprocess
import sys

PG_URL = os.environ.get("TILLIT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REQUIRED = os.environ.get("TILLIT_REQUIRE_POSTGRES") == "1"


def postgres_reachable() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_URL, connect_timeout=3):
            return True
    except Exception as exc:  # any failure means "not reachable"
        print(f"PostgreSQL at {PG_URL} not reachable: {type(exc).__name__}: {exc}")
        return False


def run(label: str, env: dict) -> int:
    print(f"\n=== tests on {label} ===", flush=True)
    return subprocess.call([sys.executable, "-m", "pytest", "-q", *sys.argv[1:]], env=env)


def main() -> int:
    base = dict(os.environ)
    base.pop("DATABASE_URL", None)
    code = run("SQLite", base)
    if postgres_reachable():
        code |= run("PostgreSQL", {**base, "DATABASE_URL": PG_URL})
    elif REQUIRED:
        print("PostgreSQL is required here (TILLIT_REQUIRE_POSTGRES=1) and could not be reached.")
        return 1
    else:
        print("PostgreSQL skipped: not reachable on this machine. The suite ran on SQLite only.")
    return code


if __name__ == "__main__":
    sys.exit(main())
