import BerthCLI

await BerthMain.run()
