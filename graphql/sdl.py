"""The committed SDL, `graphql/schema.graphql`: `make schema` rewrites it from the code."""

from __future__ import annotations

from pathlib import Path

from okrledger.graphql.schema import schema

SDL_PATH = Path(__file__).with_name("schema.graphql")


def current_sdl() -> str:
    return schema.as_str() + "\n"


def main() -> None:
    SDL_PATH.write_text(current_sdl(), encoding="utf-8")
    print(f"wrote {SDL_PATH}")


if __name__ == "__main__":
    main()
