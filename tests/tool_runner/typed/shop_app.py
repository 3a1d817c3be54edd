"""The Python guest of shop.wit (built by componentize-py in the tests, never imported there)."""

import wit_world
from componentize_py_types import Err
from wit_world.exports import shop


class WitWorld(wit_world.WitWorld):
    def greet(self, name: str, times: int) -> str:
        return " ".join([f"hello {name}"] * times)


class Shop(wit_world.exports.Shop):
    def sum_points(self, points: list[shop.Point]) -> int:
        return sum(p.x + p.y for p in points)

    def describe(self, c: shop.Color, p: shop.Perms, s: shop.Shape, letter: str) -> str:
        perms = sorted(flag.name.lower() for flag in shop.Perms if flag in p)
        if isinstance(s, shop.Shape_Circle):
            shape = f"circle r={s.value}"
        elif isinstance(s, shop.Shape_Rect):
            shape = f"rect {s.value[0]}x{s.value[1]}"
        else:
            shape = "dot"
        return f"{c.name.lower()} [{','.join(perms)}] {shape} {letter}"

    def divide(self, a: int, b: int) -> float:
        if b == 0:
            raise Err("division by zero")
        return a / b

    def find(self, items: list[str], needle: str | None) -> int | None:
        if needle is None or needle not in items:
            return None
        return items.index(needle)

    def centre(self, p: shop.Point) -> shop.Point:
        label = None if p.label is None else p.label.upper()
        return shop.Point(x=p.x // 2, y=p.y // 2, label=label)
