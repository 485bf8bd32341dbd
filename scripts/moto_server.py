"""Start moto in server mode with Docker-free Lambda and Batch.

Setting the config before the server is imported makes it Docker-free from
the first request (no race with a later /moto-api/config call).
"""
import sys

from moto.core.config import default_user_config

default_user_config["lambda"] = {"use_docker": False}
default_user_config["batch"] = {"use_docker": False}

from moto.server import main  # noqa: E402

main(sys.argv[1:])
