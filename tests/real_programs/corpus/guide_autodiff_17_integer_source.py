# Origin: tensorflow/docs site/en/guide/autodiff.ipynb, cell 9jlHXHqfASU3 ("Took gradients through an integer"); TF logs a warning.
import tensorflow as tf

x = tf.constant(10)
with tf.GradientTape() as g:
    g.watch(x)
    y = x * x
print(g.gradient(y, x))
