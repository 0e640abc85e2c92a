from forewarn.cli import app

app(prog_name="forewarn")
