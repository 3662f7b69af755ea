"""A real single-node Kafka broker (scripts/kafka.sh) for the tests."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


class KafkaBroker:
    """A real single-node Kafka broker (scripts/kafka.sh) on 127.0.0.1."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.bootstrap = ""
        self.port = 0

    def start(self) -> None:
        env = dict(os.environ)
        if self.port:
            env["KAFKA_PORT"] = str(self.port)  # a restart keeps its address
        r = subprocess.run(["bash", str(REPO_ROOT / "scripts" / "kafka.sh"), "start",
                            str(self.directory)], capture_output=True, text=True,
                           timeout=600, env=env)
        if r.returncode != 0:
            raise RuntimeError(f"the Kafka broker did not start:\n{r.stderr}")
        self.bootstrap = r.stdout.strip().splitlines()[-1]
        self.port = int(self.bootstrap.rsplit(":", 1)[1])

    def stop(self) -> None:
        subprocess.run(["bash", str(REPO_ROOT / "scripts" / "kafka.sh"), "stop",
                        str(self.directory)], capture_output=True, timeout=120)

    def create_topic(self, name: str, partitions: int) -> None:
        from kafka.admin import KafkaAdminClient, NewTopic
        admin = KafkaAdminClient(bootstrap_servers=self.bootstrap)
        try:
            admin.create_topics([NewTopic(name, partitions, 1)])
        finally:
            admin.close()
