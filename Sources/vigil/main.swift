import VigilCommands

await VigilCommand.runMain()
