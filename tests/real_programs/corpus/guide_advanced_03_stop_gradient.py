# Origin: tensorflow/docs site/en/guide/advanced_autodiff.ipynb, cell 30qnZMe48BkB ("Stop gradient flow with precision").
import tensorflow as tf

x = tf.Variable(2.0)
y = tf.Variable(3.0)
with tf.GradientTape() as t:
    y_sq = y**2
    z = x**2 + tf.stop_gradient(y_sq)
grad = t.gradient(z, {"x": x, "y": y})
print("dz/dx:", grad["x"])
print("dz/dy:", grad["y"])
