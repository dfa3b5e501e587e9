"""parallel-trees: RandomForest and XGBoost trained side by side with Kedro."""

__version__ = "0.1.0"
