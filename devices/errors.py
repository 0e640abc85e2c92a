"""The error root of `devices`."""


class DevicesError(Exception):
    """Anything wrong with the plant model."""


class PlantFileError(DevicesError):
    """A plant file that cannot be used; the message names the file, the field and the problem."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        noun = "problem" if len(problems) == 1 else "problems"
        super().__init__(f"{path}: {len(problems)} {noun}:\n{lines}")


class SparkplugError(DevicesError):
    """A Sparkplug B payload or topic that cannot be read or written as the specification says."""
