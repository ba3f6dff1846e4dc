# Origin: tensorflow/docs site/en/guide/advanced_autodiff.ipynb, cell lsMHsmrh4pqM ("Reset/start recording from scratch").
import tensorflow as tf

x = tf.Variable(2.0)
y = tf.Variable(3.0)
reset = True
with tf.GradientTape() as t:
    y_sq = y * y
    if reset:
        t.reset()
    z = x * x + y_sq
grad = t.gradient(z, {"x": x, "y": y})
print("dz/dx:", grad["x"])
print("dz/dy:", grad["y"])
