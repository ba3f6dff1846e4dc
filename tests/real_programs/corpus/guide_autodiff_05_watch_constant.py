# Origin: tensorflow/docs site/en/guide/autodiff.ipynb, cell tVN1QqFRDHBK (GradientTape.watch on a tensor).
import tensorflow as tf

x = tf.constant(3.0)
with tf.GradientTape() as tape:
    tape.watch(x)
    y = x**2
dy_dx = tape.gradient(y, x)
print(dy_dx.numpy())
