from mlops_cards.cli import main

main()
