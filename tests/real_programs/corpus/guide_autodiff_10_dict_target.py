# Origin: tensorflow/docs site/en/guide/autodiff.ipynb, cell o4a6_YOcfWKS (a dictionary of targets: the gradient of their sum).
import tensorflow as tf

x = tf.Variable(2.0)
with tf.GradientTape() as tape:
    y0 = x**2
    y1 = 1 / x
print(tape.gradient({"y0": y0, "y1": y1}, x).numpy())
